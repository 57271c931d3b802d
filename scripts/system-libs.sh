# Sourced by scripts/prebuild.sh and scripts/check-package.sh: the one list of
# the libraries the prebuilt addon may take from the system, glibc and the C++
# runtime (no Faiss, BLAS or OpenMP: those are linked in or ship beside it).
# system_lib NAME: is NAME (a file name or path, as readelf or ldd give it) one of them?
system_lib() {
  case "${1##*/}" in
    linux-vdso.so.*|ld-linux-*.so.*|libc.so.*|libm.so.*|libstdc++.so.*|libgcc_s.so.*|libpthread.so.*|libdl.so.*) ;;
    *) return 1 ;;
  esac
}
