// The exceptions native code throws for bad input or a stopped call. Plain
// C++: runtime/errors.cc makes each the JavaScript error it stands for.
#pragma once

#include <cstddef>
#include <stdexcept>

namespace nanopq {

struct TypeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct RangeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// A JavaScript Error (not a TypeError or RangeError): a call that cannot run now.
struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Training stopped by its AbortSignal (an Error named "AbortError").
struct Aborted : std::runtime_error {
    Aborted() : std::runtime_error("The operation was aborted") {}
};

}  // namespace nanopq
