#!/usr/bin/env bash
# The test command: install dependencies (run + test), build with warnings
# as errors, run every test; then build again with AddressSanitizer + UBSan
# and run every test again; then the threaded tests under ThreadSanitizer.
# JOBS (default: the number of CPUs) sets the build and test parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh test
jobs=${JOBS:-$(nproc)}
# The project's own build: warnings are errors, the tests are required
# (ctest fails when none were built, e.g. cmocka went missing).
dev=(-DCMAKE_BUILD_TYPE=Debug -DCHIPSSL_WERROR=ON -DBUILD_TESTING=ON)

cmake -S . -B build "${dev[@]}" >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure --no-tests=error -j"$jobs"

cmake -S . -B build-asan "${dev[@]}" -DCHIPSSL_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure --no-tests=error -j"$jobs"

# The threaded tests once more under ThreadSanitizer (the library's own code
# is instrumented; OpenSSL is not, and is trusted to be thread-safe).
cmake -S . -B build-tsan "${dev[@]}" \
  -DCMAKE_C_FLAGS="-fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build build-tsan -j"$jobs"
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan --output-on-failure --no-tests=error \
  -R 'test_threads|test_loopback|test_lock_scope'
