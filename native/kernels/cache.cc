#include "kernels/cache.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <string>

#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "kernels/exceptions.h"

namespace nanopq {

namespace {

// "512K", "1M", "32768": bytes, or 0 when `text` is not such a size.
size_t parse_size(const std::string& text) {
    size_t i = 0, value = 0;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && value < (size_t(1) << 40); i++)
        value = value * 10 + size_t(text[i] - '0');
    if (i == 0) return 0;
    const std::string unit = text.substr(i);
    if (unit.empty() || unit == "B") return value;
    if (unit == "K" || unit == "k" || unit == "KB" || unit == "KiB") return value << 10;
    if (unit == "M" || unit == "m" || unit == "MB" || unit == "MiB") return value << 20;
    return 0;
}

bool from_variable(CachePlan& plan) {
    const char* value = std::getenv("NANOPQ_CACHE");
    if (!value || !*value) return false;
    const std::string text = value;
    const size_t comma = text.find(',');
    const size_t l1d = comma == std::string::npos ? plan.l1d : parse_size(text.substr(0, comma));
    const size_t l2 = parse_size(comma == std::string::npos ? text : text.substr(comma + 1));
    if (l1d < (size_t(4) << 10) || l1d > (size_t(1) << 20) || l2 < (size_t(64) << 10) || l2 > (size_t(256) << 20))
        throw RangeError("Expected NANOPQ_CACHE to be \"l1d,l2\" or \"l2\", sizes in bytes with an optional K or M "
                         "suffix (L1d 4K-1M, L2 64K-256M), as \"32K,512K\"; got \"" + text + "\"");
    plan = {l1d, l2, "NANOPQ_CACHE"};
    return true;
}

bool from_sysconf(CachePlan& plan) {
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
    const long l1d = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (l1d > 0 && l2 > 0) {
        plan = {size_t(l1d), size_t(l2), "sysconf"};
        return true;
    }
#endif
    return false;
}

// Intel's deterministic cache parameters (leaf 4) or AMD's (0x8000001D), of
// the same layout: level, type (1 data, 3 unified) and ways x partitions x
// line size x sets.
bool from_cpuid(CachePlan& plan) {
#if defined(__x86_64__) || defined(__i386__)
    for (const unsigned leaf : {4u, 0x8000001Du}) {
        if (__get_cpuid_max(leaf & 0x80000000u, nullptr) < leaf) continue;
        size_t l1d = 0, l2 = 0;
        for (unsigned sub = 0; sub < 16; sub++) {
            unsigned a, b, c, d;
            __cpuid_count(leaf, sub, a, b, c, d);
            const unsigned type = a & 0x1f, level = (a >> 5) & 7;
            if (type == 0) break;
            const size_t bytes = size_t((b >> 22) + 1) * (((b >> 12) & 0x3ff) + 1) * ((b & 0xfff) + 1) * (size_t(c) + 1);
            if (level == 1 && type == 1) l1d = bytes;
            if (level == 2 && (type == 1 || type == 3)) l2 = bytes;
        }
        if (l1d && l2) {
            plan = {l1d, l2, "cpuid"};
            return true;
        }
    }
#endif
    return false;
}

// Linux's description of the first core's caches (arm64 has no cpuid, and
// glibc's sysconf answers 0 there).
bool from_sysfs(CachePlan& plan) {
    size_t l1d = 0, l2 = 0;
    for (int index = 0; index < 8; index++) {
        const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
        std::string level, type, size;
        std::ifstream(dir + "level") >> level;
        std::ifstream(dir + "type") >> type;
        std::ifstream(dir + "size") >> size;
        if (level == "1" && type == "Data") l1d = parse_size(size);
        if (level == "2" && (type == "Data" || type == "Unified")) l2 = parse_size(size);
    }
    if (!l1d || !l2) return false;
    plan = {l1d, l2, "sysfs"};
    return true;
}

CachePlan choose_plan() {
    CachePlan plan{size_t(32) << 10, size_t(512) << 10, "default"};
    CachePlan detected = plan;
    from_sysconf(detected) || from_cpuid(detected) || from_sysfs(detected);
    plan = detected;
    from_variable(plan);  // NANOPQ_CACHE="l2" keeps the detected L1d
    return plan;
}

}  // namespace

const CachePlan& cache_plan() {
    static const CachePlan chosen = choose_plan();
    return chosen;
}

size_t fitting(size_t bytes, size_t item_bytes, size_t multiple, size_t lowest, size_t highest) {
    return std::clamp(bytes / std::max<size_t>(item_bytes, 1) / multiple * multiple, lowest, highest);
}

}  // namespace nanopq
