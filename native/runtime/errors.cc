#include "runtime/errors.h"

#include <faiss/impl/FaissException.h>

#include <new>

namespace nanopq {

Napi::Error current_exception_to_js(Napi::Env env) {
    try {
        throw;
    } catch (const TypeError& e) {
        return Napi::TypeError::New(env, e.what());
    } catch (const RangeError& e) {
        return Napi::RangeError::New(env, e.what());
    } catch (const Error& e) {
        return Napi::Error::New(env, e.what());
    } catch (const Aborted& e) {
        Napi::Error error = Napi::Error::New(env, e.what());
        error.Set("name", "AbortError");
        return error;
    } catch (const faiss::FaissException& e) {
        return Napi::Error::New(env, std::string("Faiss: ") + e.msg);
    } catch (const std::bad_alloc&) {
        return Napi::RangeError::New(env, "nanopq: out of memory");
    } catch (const std::exception& e) {
        return Napi::Error::New(env, std::string("nanopq: ") + e.what());
    } catch (...) {
        return Napi::Error::New(env, "nanopq: unknown native error");
    }
}

}  // namespace nanopq
