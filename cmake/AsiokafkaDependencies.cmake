# Finds every dependency with a minimum version. When one is missing or too old, configuration
# stops with a message naming the Debian package that provides it (rig/install-deps installs all).

# asiokafka_require(<find_package name> <min version> <debian package> [extra find_package args])
macro(asiokafka_require name min_version debian_package)
  find_package(${name} ${min_version} ${ARGN} QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR
      "asiokafka needs ${name} >= ${min_version}, which was not found"
      "${${name}_VERSION}.\n"
      "On Debian install it with:  apt-get install ${debian_package}\n"
      "(or run rig/install-deps, which installs everything the build and tests need)")
  endif()
  string(TOUPPER "${name}" _upper)
  set(_version "${${name}_VERSION}${${_upper}_VERSION}${${_upper}_VERSION_STRING}")
  message(STATUS "asiokafka: ${name} ${_version}")
endmacro()

macro(asiokafka_find_library_dependencies)
  asiokafka_require(Boost 1.81 "libboost1.81-dev libboost-system1.81-dev" CONFIG COMPONENTS system)
  asiokafka_require(OpenSSL 3.0 libssl-dev)
  asiokafka_require(ZLIB 1.2.11 zlib1g-dev)
  asiokafka_require(zstd 1.4.8 libzstd-dev CONFIG)
  asiokafka_require(LZ4 1.9 liblz4-dev)
  asiokafka_require(Snappy 1.1.8 libsnappy-dev CONFIG)
  asiokafka_require(CyrusSASL 2.1.27 libsasl2-dev)
  find_package(Threads REQUIRED)
endmacro()

macro(asiokafka_find_test_dependencies)
  asiokafka_require(GTest 1.12 "libgtest-dev libgmock-dev" CONFIG)
  if(NOT TARGET GTest::gmock)
    message(FATAL_ERROR "asiokafka tests need GoogleMock.\nOn Debian install it with:  apt-get install libgmock-dev")
  endif()
  asiokafka_require(RdKafka 2.0 librdkafka-dev)
endmacro()

macro(asiokafka_find_benchmark_dependencies)
  asiokafka_require(benchmark 1.7 libbenchmark-dev CONFIG)
  asiokafka_require(RdKafka 2.0 librdkafka-dev)
endmacro()
