#include "scan.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace nanopq {

namespace {

// Calls f(i, distance) for every code, in order. M is a template argument
// for the common code lengths, so that the sum unrolls and the table
// offsets are constants; 0 means "read codes.M".
template <int FixedM, typename Code, typename F>
inline void each_distance(const float* table, size_t Ks, const Code* codes, size_t n, size_t M_, F&& f) {
    const size_t M = FixedM ? size_t(FixedM) : M_;
    for (size_t i = 0; i < n; i++) {
        const Code* c = codes + i * M;
        float sum = table[c[0]];
        for (size_t m = 1; m < M; m++) sum += table[m * Ks + c[m]];
        f(i, sum);
    }
}

template <typename F>
void visit_distances(const float* table, size_t Ks, Codes codes, F&& f) {
    codes.visit([&](const auto* in) {
        switch (codes.M) {
            case 4: return each_distance<4>(table, Ks, in, codes.n, 4, f);
            case 8: return each_distance<8>(table, Ks, in, codes.n, 8, f);
            case 16: return each_distance<16>(table, Ks, in, codes.n, 16, f);
            case 32: return each_distance<32>(table, Ks, in, codes.n, 32, f);
            default: return each_distance<0>(table, Ks, in, codes.n, codes.M, f);
        }
    });
}

// A candidate of topk: its key orders best first (NaN mapped to +inf ranks last).
struct Entry {
    float key, distance;
    uint32_t id;
};

// a before b: a smaller key, or the same key and a lower id.
inline bool before(const Entry& a, const Entry& b) { return a.key < b.key || (a.key == b.key && a.id < b.id); }

}  // namespace

void adist(const float* table, size_t Ks, Codes codes, float* dists) {
    visit_distances(table, Ks, codes, [&](size_t i, float d) { dists[i] = d; });
}

void topk(const float* table, size_t Ks, Codes codes, size_t k, bool largest_first, uint32_t* ids, float* dists) {
    if (k == 0) return;
    const float sign = largest_first ? -1.0f : 1.0f;
    // A heap of the k best so far, the worst on top. Codes come in id order,
    // so a later code with the key of the worst loses the tie: only a strictly
    // smaller key enters (a NaN never does once the heap is full).
    std::vector<Entry> heap;
    heap.reserve(k);
    float worst = INFINITY;
    visit_distances(table, Ks, codes, [&](size_t i, float d) {
        const float key = sign * d;
        if (heap.size() < k) {
            heap.push_back({std::isnan(key) ? INFINITY : key, d, uint32_t(i)});
            std::push_heap(heap.begin(), heap.end(), before);
            if (heap.size() == k) worst = heap.front().key;
        } else if (key < worst) {
            std::pop_heap(heap.begin(), heap.end(), before);
            heap.back() = {key, d, uint32_t(i)};
            std::push_heap(heap.begin(), heap.end(), before);
            worst = heap.front().key;
        }
    });
    std::sort_heap(heap.begin(), heap.end(), before);
    for (size_t j = 0; j < heap.size(); j++) {
        ids[j] = heap[j].id;
        dists[j] = heap[j].distance;
    }
}

}  // namespace nanopq
