// Reading binding arguments. The TypeScript layer validates user input and
// names the user's argument; these checks are the native layer's own guard,
// so that no call, however wrong, reads or writes outside a buffer.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/codebook.h"
#include "kernels/codes.h"
#include "kernels/exceptions.h"

namespace nanopq {

// A typed array's elements, read in place (Data() honours the view's byteOffset).
template <typename T>
struct ArrayArg {
    T* data;
    size_t length;
};

inline std::string arg_name(size_t i) { return "argument " + std::to_string(i); }

// a * b, or a RangeError when it does not fit in size_t (a length check on a
// wrapped product would pass for an empty array).
inline size_t checked_mul(size_t a, size_t b) {
    size_t product;
    if (__builtin_mul_overflow(a, b, &product)) throw RangeError("Expected sizes whose product fits in memory");
    return product;
}
inline size_t checked_mul(size_t a, size_t b, size_t c) { return checked_mul(checked_mul(a, b), c); }

inline size_t size_value(Napi::Value value, const std::string& name) {
    if (!value.IsNumber()) throw TypeError("Expected a number for " + name);
    double v = value.As<Napi::Number>().DoubleValue();
    if (!(v >= 0) || v > 9007199254740991.0 || v != static_cast<double>(static_cast<uint64_t>(v)))
        throw RangeError("Expected a non-negative integer for " + name);
    return static_cast<size_t>(v);
}

inline size_t size_arg(const Napi::CallbackInfo& info, size_t i) { return size_value(info[i], arg_name(i)); }

inline bool bool_arg(const Napi::CallbackInfo& info, size_t i) {
    if (!info[i].IsBoolean()) throw TypeError("Expected a boolean for " + arg_name(i));
    return info[i].As<Napi::Boolean>().Value();
}

template <typename T>
napi_typedarray_type typed_array_type();
template <>
inline napi_typedarray_type typed_array_type<float>() { return napi_float32_array; }
template <>
inline napi_typedarray_type typed_array_type<uint32_t>() { return napi_uint32_array; }
template <>
inline napi_typedarray_type typed_array_type<uint8_t>() { return napi_uint8_array; }
template <>
inline napi_typedarray_type typed_array_type<int64_t>() { return napi_bigint64_array; }

// What argument i is as a typed array, read in one call (each of napi's
// typed-array calls looks the array's type up again, which showed in the
// profile of a call of microseconds): type -1 when it is not one. data
// honours byteOffset and works on a SharedArrayBuffer too.
struct TypedArrayInfo {
    int type = -1;
    size_t length = 0;
    void* data = nullptr;
};
inline TypedArrayInfo typed_array_info(const Napi::CallbackInfo& info, size_t i) {
    napi_typedarray_type type;
    TypedArrayInfo out;
    if (napi_get_typedarray_info(info.Env(), info[i], &type, &out.length, &out.data, nullptr, nullptr) == napi_ok)
        out.type = int(type);
    return out;
}

// A typed array of exactly `length` elements of T.
template <typename T>
ArrayArg<T> array_arg(const Napi::CallbackInfo& info, size_t i, size_t length) {
    const TypedArrayInfo array = typed_array_info(info, i);
    if (array.type != int(typed_array_type<T>()))
        throw TypeError("Expected a typed array of the right type for " + arg_name(i));
    if (array.length != length)
        throw RangeError("Expected " + std::to_string(length) + " elements for " + arg_name(i) + ", got " +
                         std::to_string(array.length));
    return {static_cast<T*>(array.data), length};
}

// An (n, M) code matrix: a Uint8Array, Uint16Array or Uint32Array of n * M elements.
inline Codes codes_arg(const Napi::CallbackInfo& info, size_t i, size_t n, size_t M) {
    const TypedArrayInfo array = typed_array_info(info, i);
    int width;
    switch (array.type) {
        case napi_uint8_array: width = 1; break;
        case napi_uint16_array: width = 2; break;
        case napi_uint32_array: width = 4; break;
        default: throw TypeError("Expected a Uint8Array, Uint16Array or Uint32Array for " + arg_name(i));
    }
    const size_t length = checked_mul(n, M);
    if (array.length != length)
        throw RangeError("Expected " + std::to_string(length) + " codes for " + arg_name(i) + ", got " +
                         std::to_string(array.length));
    return {array.data, n, M, width};
}

// Reads arguments as the functions above do, and keeps the handle and each
// typed array it read, for an async job to hold until it settles (worker.h).
struct PinnedArgs {
    const Napi::CallbackInfo& info;
    std::vector<Napi::Value> pinned;

    // Pinning the handle in argument `handle`, or (-1) none.
    PinnedArgs(const Napi::CallbackInfo& info, size_t handle) : info(info) {
        if (handle != size_t(-1)) pinned.push_back(info[handle]);
    }
    template <typename T>
    ArrayArg<T> array(size_t i, size_t length) {
        pinned.push_back(info[i]);
        return array_arg<T>(info, i, length);
    }
    Codes codes(size_t i, size_t n, size_t M) {
        pinned.push_back(info[i]);
        return codes_arg(info, i, n, M);
    }
};

// Arguments (codewords, M, Ks, Ds) starting at index i.
inline Codebook codebook_arg(const Napi::CallbackInfo& info, size_t i) {
    size_t M = size_arg(info, i + 1), Ks = size_arg(info, i + 2), Ds = size_arg(info, i + 3);
    if (M == 0 || Ks == 0 || Ds == 0) throw RangeError("Expected a non-empty codebook");
    return {array_arg<float>(info, i, checked_mul(M, Ks, Ds)).data, M, Ks, Ds};
}

// The enum value of one of `names` (in the enum's order). lib/ checks the
// option against the same names (exports.names) first, with its message.
template <class Enum, size_t N>
Enum enum_value(Napi::Value value, const char* const (&names)[N], const char* option) {
    if (value.IsString()) {
        const std::string name = value.As<Napi::String>().Utf8Value();
        for (size_t i = 0; i < N; i++)
            if (name == names[i]) return Enum(i);
    }
    throw TypeError(std::string("Expected one of the names in names.") + option + " for " + option);
}

inline Metric metric_value(Napi::Value value) { return enum_value<Metric>(value, kMetricNames, "metric"); }
inline Metric metric_arg(const Napi::CallbackInfo& info, size_t i) { return metric_value(info[i]); }

}  // namespace nanopq
