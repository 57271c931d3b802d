// An OpenMP loop whose body may throw: an exception cannot leave an OpenMP
// region (the runtime calls std::terminate), so the first one is kept and
// rethrown after the loop.
#pragma once

#include <cstdint>
#include <exception>

namespace nanopq {

template <typename Body>
void parallel_for(int64_t n, Body&& body) {
    std::exception_ptr error;
#pragma omp parallel for
    for (int64_t i = 0; i < n; i++) {
        try {
            body(i);
        } catch (...) {
#pragma omp critical(nanopq_parallel_for)
            if (!error) error = std::current_exception();
        }
    }
    if (error) std::rethrow_exception(error);
}

}  // namespace nanopq
