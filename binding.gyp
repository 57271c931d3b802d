{
  "targets": [
    {
      "target_name": "nanopq",
      "sources": [
        "native/addon.cc",
        "native/bindings/kernel_binding.cc",
        "native/bindings/model_object.cc",
        "native/bindings/opq_binding.cc",
        "native/bindings/rii_binding.cc",
        "native/faiss/index.cc",
        "native/faiss/index_calls.cc",
        "native/faiss/index_flat.cc",
        "native/faiss/index_hnsw.cc",
        "native/faiss/index_id_map.cc",
        "native/faiss/index_ivf.cc",
        "native/faiss/index_pq.cc",
        "native/faiss/index_pre_transform.cc",
        "native/faiss/index_refine.cc",
        "native/faiss/linear_transform.cc",
        "native/faiss/object.cc",
        "native/faiss/product_quantizer.cc",
        "native/kernels/cache.cc",
        "native/kernels/code_sums.cc",
        "native/kernels/codebook.cc",
        "native/kernels/fast_scan.cc",
        "native/kernels/nearest.cc",
        "native/kernels/packing.cc",
        "native/kernels/parallel.cc",
        "native/kernels/scan.cc",
        "native/kernels/simd.cc",
        "native/kernels/values.cc",
        "native/model/exact_search.cc",
        "native/model/kmeans.cc",
        "native/model/kmeans_init.cc",
        "native/model/linalg.cc",
        "native/model/model.cc",
        "native/model/opq.cc",
        "native/model/rii.cc",
        "native/runtime/errors.cc",
        "native/runtime/runtime.cc"
      ],
      "include_dirs": [
        "native",
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node scripts/find-faiss.js include)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags_cc!": [
        "-fno-exceptions",
        "-fno-rtti",
        "-std=gnu++17"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-fexceptions",
        "-frtti",
        "-fopenmp",
        "-O3",
        "-Wno-psabi",
        "-Wno-maybe-uninitialized"
      ],
      "libraries": [
        "<!@(node scripts/find-faiss.js libs)"
      ],
      "ldflags": [
        "-Wl,-z,nodelete",
        "-Wl,-rpath,'$$ORIGIN'"
      ],
      "conditions": [
        ["target_arch=='arm64'", { "cflags_cc": ["-ffp-contract=off"] }]
      ]
    }
  ]
}
