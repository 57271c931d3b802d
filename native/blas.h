// The Fortran BLAS symbols that Faiss itself links (OpenBLAS on Debian, MKL
// or OpenBLAS in conda). Faiss declares them privately, so we do too.
#pragma once

extern "C" {
int sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
           const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
           const float* beta, float* c, const int* ldc);
}
