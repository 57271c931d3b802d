// The k best of a scan (kernels/scan, kernels/fast_scan): a candidate, the
// order that ranks it, the heap that keeps the best so far, and the merge of
// blocks scanned apart.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/parallel.h"

namespace nanopq {

// A candidate: its key orders best first (NaN mapped to +inf ranks last).
struct Entry {
    float key, distance;
    uint32_t id;
};

// The entry of row id at distance d, its key sign * d (-1 for largest first).
inline Entry entry_of(float sign, float d, uint32_t id) {
    const float key = sign * d;
    return {std::isnan(key) ? INFINITY : key, d, id};
}

// a before b: a smaller key, or the same key and a lower id. A function
// object, so that the heap algorithms inline it (a function pointer they call).
struct Before {
    bool operator()(const Entry& a, const Entry& b) const { return a.key < b.key || (a.key == b.key && a.id < b.id); }
};
constexpr Before before{};

// Pushes an entry into a heap of the best so far, the worst on top.
inline void push(std::vector<Entry>& heap, const Entry& e) {
    heap.push_back(e);
    std::push_heap(heap.begin(), heap.end(), before);
}

// Replaces the worst entry of a full heap.
inline void replace_worst(std::vector<Entry>& heap, const Entry& e) {
    std::pop_heap(heap.begin(), heap.end(), before);
    heap.back() = e;
    std::push_heap(heap.begin(), heap.end(), before);
}

// Offers e to a heap of the k best when rows come in any order: it enters a
// heap not yet full, or a full one where it is before the worst (by key, then
// id). Returns whether it entered.
inline bool offer(std::vector<Entry>& heap, size_t k, const Entry& e) {
    if (heap.size() < k) {
        push(heap, e);
    } else if (before(e, heap.front())) {
        replace_worst(heap, e);
    } else {
        return false;
    }
    return true;
}

// The heap's entries, best first, into ids and dists.
inline void write_sorted(std::vector<Entry>& heap, uint32_t* ids, float* dists) {
    std::sort_heap(heap.begin(), heap.end(), before);
    for (size_t j = 0; j < heap.size(); j++) {
        ids[j] = heap[j].id;
        dists[j] = heap[j].distance;
    }
}

// The k best of `blocks` blocks scanned apart, on several threads:
// best_of(b) returns a heap of block b's best (at most k), and the k best of
// those are the k best of all (each is among its block's), ties to the lower
// id as in one scan. k <= the entries there are.
template <typename BestOf>
void merge_best(size_t blocks, size_t k, BestOf&& best_of, uint32_t* ids, float* dists) {
    std::vector<std::vector<Entry>> found(blocks);
    parallel_for(int64_t(blocks), [&](int64_t b) { found[size_t(b)] = best_of(size_t(b)); });
    std::vector<Entry> all;
    for (const auto& f : found) all.insert(all.end(), f.begin(), f.end());
    std::partial_sort(all.begin(), all.begin() + k, all.end(), before);
    for (size_t j = 0; j < k; j++) {
        ids[j] = all[j].id;
        dists[j] = all[j].distance;
    }
}

}  // namespace nanopq
