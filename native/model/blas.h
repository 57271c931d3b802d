// The Fortran BLAS/LAPACK symbols that Faiss itself links (OpenBLAS on
// Debian, MKL or OpenBLAS in conda). Faiss declares them privately, so we do
// too. Fortran passes the length of each character argument after the
// others: a routine compiled by gfortran may rely on them being there, so
// calls pass them (1 each: kOne).
#pragma once

#include <cstddef>

constexpr size_t kOne = 1;

extern "C" {
int sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
           const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
           const float* beta, float* c, const int* ldc, size_t transa_len, size_t transb_len);
int sgebrd_(const int* m, const int* n, float* a, const int* lda, float* d, float* e, float* tauq, float* taup,
            float* work, const int* lwork, int* info);
int sbdsdc_(const char* uplo, const char* compq, const int* n, float* d, float* e, float* u, const int* ldu,
            float* vt, const int* ldvt, float* q, int* iq, float* work, int* iwork, int* info, size_t uplo_len,
            size_t compq_len);
int sormbr_(const char* vect, const char* side, const char* trans, const int* m, const int* n, const int* k,
            float* a, const int* lda, const float* tau, float* c, const int* ldc, float* work,
            const int* lwork, int* info, size_t vect_len, size_t side_len, size_t trans_len);
int dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
           double* work, const int* lwork, int* info, size_t jobz_len, size_t uplo_len);
}
