{
  "targets": [
    {
      "target_name": "nanopq",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/faiss_index.cc",
        "native/faiss_opq_matrix.cc",
        "native/faiss_product_quantizer.cc",
        "native/kmeans_init.cc",
        "native/linalg.cc",
        "native/model.cc",
        "native/model_object.cc",
        "native/nearest.cc",
        "native/opq_binding.cc",
        "native/opq_ops.cc",
        "native/parallel.cc",
        "native/pq_binding.cc",
        "native/pq_ops.cc",
        "native/scan.cc"
      ],
      "include_dirs": [
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
        "-Wno-psabi"
      ],
      "libraries": [
        "<!@(node scripts/find-faiss.js libs)"
      ],
      "ldflags": [
        "-Wl,-z,nodelete",
        "-Wl,-rpath,'$$ORIGIN'"
      ]
    }
  ]
}
