// Reading binding arguments. The TypeScript layer validates user input and
// names the user's argument; these checks are the native layer's own guard,
// so that no call, however wrong, reads or writes outside a buffer.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "codes.h"
#include "errors.h"

namespace nanopq {

// A typed array's elements, read in place (Data() honours the view's byteOffset).
template <typename T>
struct ArrayArg {
    T* data;
    size_t length;
};

inline std::string arg_name(size_t i) { return "argument " + std::to_string(i); }

inline size_t size_arg(const Napi::CallbackInfo& info, size_t i) {
    if (!info[i].IsNumber()) throw TypeError("Expected a number for " + arg_name(i));
    double v = info[i].As<Napi::Number>().DoubleValue();
    if (!(v >= 0) || v > 9007199254740991.0 || v != static_cast<double>(static_cast<uint64_t>(v)))
        throw RangeError("Expected a non-negative integer for " + arg_name(i));
    return static_cast<size_t>(v);
}

inline bool bool_arg(const Napi::CallbackInfo& info, size_t i) {
    if (!info[i].IsBoolean()) throw TypeError("Expected a boolean for " + arg_name(i));
    return info[i].As<Napi::Boolean>().Value();
}

inline std::string string_arg(const Napi::CallbackInfo& info, size_t i) {
    if (!info[i].IsString()) throw TypeError("Expected a string for " + arg_name(i));
    return info[i].As<Napi::String>().Utf8Value();
}

template <typename T>
napi_typedarray_type typed_array_type();
template <>
inline napi_typedarray_type typed_array_type<float>() { return napi_float32_array; }
template <>
inline napi_typedarray_type typed_array_type<uint32_t>() { return napi_uint32_array; }


// A typed array of exactly `length` elements of T.
template <typename T>
ArrayArg<T> array_arg(const Napi::CallbackInfo& info, size_t i, size_t length) {
    if (!info[i].IsTypedArray() ||
        info[i].As<Napi::TypedArray>().TypedArrayType() != typed_array_type<T>())
        throw TypeError("Expected a typed array of the right type for " + arg_name(i));
    auto array = info[i].As<Napi::TypedArrayOf<T>>();
    if (array.ElementLength() != length)
        throw RangeError("Expected " + std::to_string(length) + " elements for " + arg_name(i) +
                         ", got " + std::to_string(array.ElementLength()));
    return {array.Data(), length};
}

// An (n, M) code matrix: a Uint8Array, Uint16Array or Uint32Array of n * M elements.
inline Codes codes_arg(const Napi::CallbackInfo& info, size_t i, size_t n, size_t M) {
    if (!info[i].IsTypedArray()) throw TypeError("Expected a typed array for " + arg_name(i));
    auto array = info[i].As<Napi::TypedArray>();
    int width;
    switch (array.TypedArrayType()) {
        case napi_uint8_array: width = 1; break;
        case napi_uint16_array: width = 2; break;
        case napi_uint32_array: width = 4; break;
        default: throw TypeError("Expected a Uint8Array, Uint16Array or Uint32Array for " + arg_name(i));
    }
    if (array.ElementLength() != n * M)
        throw RangeError("Expected " + std::to_string(n * M) + " codes for " + arg_name(i) +
                         ", got " + std::to_string(array.ElementLength()));
    auto* bytes = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
    return {bytes, n, M, width};
}

}  // namespace nanopq
