# Every dependency comes from Debian's packages (scripts/install-deps.sh installs them).
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(SQLite3 REQUIRED)
# OpenSSL's libcrypto: SHA-256 / HMAC-SHA256 for tombstones and pseudonymised user ids.
find_package(OpenSSL REQUIRED)
# Debian builds cpp-httplib as a shared library; its pkg-config file carries the feature macros
# (OpenSSL, zlib, brotli) the header must see to match the library's ABI.
find_package(PkgConfig REQUIRED)
# Boost.Beast/Asio (header-only, libboost-dev) is the server's HTTP transport; cpp-httplib remains
# the HTTP client of the tests and the load benchmark.
find_package(Boost 1.74 REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# libpq: the PostgreSQL event store (postgresql:// URLs) for replicated serving.
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
# Debian's FAISS 1.7.3 is a static library that needs OpenMP found first.
find_package(OpenMP REQUIRED)
find_package(faiss REQUIRED)
find_package(CLI11 QUIET CONFIG)
if(NOT TARGET CLI11::CLI11)
  # Debian's libcli11-dev ships only the headers (and a pkg-config file).
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()

# BLAS for the classic models' dense scoring (sgemm). OpenBLAS's OpenMP build is preferred:
# its pthread build fights other thread pools. We link the generic libblas.so.3 interface
# through Debian's alternatives, which install-deps.sh points at OpenBLAS (OpenMP).
find_path(DRIFTREC_CBLAS_INCLUDE cblas.h PATHS /usr/include/x86_64-linux-gnu /usr/include/aarch64-linux-gnu
  PATH_SUFFIXES openblas-openmp openblas-pthread openblas REQUIRED)
find_library(DRIFTREC_BLAS_LIB NAMES openblas blas REQUIRED)
set(DRIFTREC_BLAS_INCLUDE_DIRS ${DRIFTREC_CBLAS_INCLUDE})
set(DRIFTREC_BLAS_LIBRARIES ${DRIFTREC_BLAS_LIB})
message(STATUS "DriftRec: cblas.h in ${DRIFTREC_CBLAS_INCLUDE}, BLAS library ${DRIFTREC_BLAS_LIB}")
