# libFuzzer builds (ASIOKAFKA_BUILD_FUZZERS, preset "fuzz"): every project target is compiled
# with coverage instrumentation for libFuzzer plus ASan and UBSan (-fsanitize=fuzzer-no-link,...);
# the fuzz targets in fuzz/ add -fsanitize=fuzzer, which links libFuzzer's main().
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "ASIOKAFKA_BUILD_FUZZERS needs clang (libFuzzer); CMAKE_CXX_COMPILER is "
    "${CMAKE_CXX_COMPILER_ID}.\nOn Debian install clang-14 libclang-rt-14-dev and use the preset "
    "'fuzz' (or run rig/install-deps).")
endif()

set(ASIOKAFKA_FUZZ_SANITIZERS "address,undefined")
target_compile_options(asiokafka_warnings INTERFACE
  -fsanitize=fuzzer-no-link,${ASIOKAFKA_FUZZ_SANITIZERS} -fno-sanitize-recover=all
  -fno-omit-frame-pointer -O1)
target_link_options(asiokafka_warnings INTERFACE -fsanitize=${ASIOKAFKA_FUZZ_SANITIZERS})
