/* The reference for adist in `npm run bench` (scripts/bench-serving.js): the
 * plain loop a C programmer would write for M = 8, Ks = 256, unrolled by hand,
 * over the same table and codes as ours. It times only the loop (no file
 * reading), so the ratio shows what our binding and kernel add or save.
 *   adist_ref TABLE CODES N REPS  ->  "median_ns_per_code min_ns_per_code sum"
 * TABLE: 8 x 256 float32; CODES: N x 8 uint8 (raw, native byte order). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { M = 8, KS = 256 };

static void *slurp(const char *path, size_t size) {
    void *buf = malloc(size);
    FILE *f = fopen(path, "rb");
    if (!buf || !f || fread(buf, 1, size, f) != size) { perror(path); exit(1); }
    fclose(f);
    return buf;
}

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: adist_ref TABLE CODES N REPS\n"); return 2; }
    size_t n = strtoull(argv[3], NULL, 10);
    int reps = atoi(argv[4]);
    const float *t = slurp(argv[1], sizeof(float) * M * KS);
    const uint8_t *c = slurp(argv[2], n * M);
    float *d = malloc(sizeof(float) * n);
    double *ns = malloc(sizeof(double) * reps);
    for (int r = -1; r < reps; r++) { /* r = -1 warms the caches and page-faults d */
        double t0 = now_ns();
        for (size_t i = 0; i < n; i++) {
            const uint8_t *ci = c + i * M;
            d[i] = t[ci[0]] + t[KS + ci[1]] + t[2 * KS + ci[2]] + t[3 * KS + ci[3]] +
                   t[4 * KS + ci[4]] + t[5 * KS + ci[5]] + t[6 * KS + ci[6]] + t[7 * KS + ci[7]];
        }
        if (r >= 0) ns[r] = (now_ns() - t0) / n;
    }
    /* the sum keeps the loop from being optimised away and lets the caller check our distances */
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += d[i];
    qsort(ns, reps, sizeof(double), cmp);
    printf("%.3f %.3f %.6e\n", ns[reps / 2], ns[0], sum);
    return 0;
}
