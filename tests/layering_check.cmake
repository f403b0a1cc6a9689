# Fails when a source file breaks the layer rules of docs/design.md ("Layers"). The build
# already stops wrong includes between source folders (layer views) and Asio in the sans-I/O
# layers (cmake/poison); this reads every file under src/ and include/ for what the compiler
# cannot see: facade headers, clocks, files outside a layer, public headers reaching into src/.
# Run: cmake -DSOURCE_DIR=<repo> -P tests/layering_check.cmake

cmake_minimum_required(VERSION 3.25)
set(violations "")

# check(<glob...> RULE <name> FORBID <substring...>): every file matching the globs may not
# contain any of the substrings (on any line).
function(check)
  cmake_parse_arguments(C "" "RULE" "GLOBS;FORBID" ${ARGN})
  file(GLOB_RECURSE files ${C_GLOBS})
  foreach(f IN LISTS files)
    file(RELATIVE_PATH rel "${SOURCE_DIR}" "${f}")
    file(STRINGS "${f}" lines)
    set(n 0)
    foreach(line IN LISTS lines)
      math(EXPR n "${n} + 1")
      foreach(pattern IN LISTS C_FORBID)
        string(FIND "${line}" "${pattern}" at)
        if(NOT at EQUAL -1)
          string(APPEND violations "  ${rel}:${n}: ${C_RULE} may not use '${pattern}'\n")
        endif()
      endforeach()
    endforeach()
  endforeach()
  set(violations "${violations}" PARENT_SCOPE)
endfunction()

set(facades "asiokafka/client.hpp" "asiokafka/probe.hpp" "asiokafka/producer.hpp" "asiokafka/consumer.hpp"
  "asiokafka/admin.hpp")
set(src "${SOURCE_DIR}/src")
set(inc "${SOURCE_DIR}/include/asiokafka")

# protocol: std and the compression libraries only.
check(RULE "the protocol layer" GLOBS "${src}/protocol/*.hpp" "${src}/protocol/*.cpp" "${inc}/protocol/*.hpp"
  FORBID "boost/asio" "openssl/" "sasl/" "\"net/" "\"client/" "\"producer/" "\"consumer/" "\"admin/"
         "steady_clock" "system_clock" "high_resolution_clock" ${facades})
# The plain public headers: usable by the sans-I/O layers, so no Asio.
check(RULE "a plain public header" GLOBS "${inc}/error.hpp" "${inc}/kafka_error.hpp" "${inc}/buffer.hpp"
  "${inc}/response.hpp" "${inc}/metadata.hpp" "${inc}/bytes.hpp" "${inc}/consumer_record.hpp" "${inc}/deserializer.hpp"
  FORBID "boost/asio" "asiokafka/config.hpp" "asiokafka/sasl.hpp" "asiokafka/async.hpp")
# net/sansio: no Asio, no clock reads (time is an argument), nothing of net above it.
check(RULE "the sans-I/O core" GLOBS "${src}/net/sansio/*.hpp" "${src}/net/sansio/*.cpp"
  FORBID "boost/asio" "::now(" "\"net/connection" "\"net/cluster" "\"net/notifier" "\"net/metadata_service"
         "\"net/coordinator_service" "\"net/sasl_config" "\"client/" "asiokafka/config.hpp" "asiokafka/sasl.hpp"
         "asiokafka/async.hpp" ${facades})
# producer/sansio: no Asio, no clock reads, of net only its sans-I/O core (the layer view
# shows protocol, net/sansio and producer/sansio).
check(RULE "the producer's sans-I/O core" GLOBS "${src}/producer/sansio/*.hpp" "${src}/producer/sansio/*.cpp"
  FORBID "boost/asio" "::now(" "\"net/connection" "\"net/cluster" "\"net/notifier" "\"net/metadata_service"
         "\"net/coordinator_service" "\"net/sasl_config" "\"producer/producer" "\"client/" "\"consumer/" "\"admin/" "asiokafka/config.hpp"
         "asiokafka/sasl.hpp" "asiokafka/async.hpp" ${facades})
# consumer/sansio: the same rules as the producer's.
check(RULE "the consumer's sans-I/O core" GLOBS "${src}/consumer/sansio/*.hpp" "${src}/consumer/sansio/*.cpp"
  FORBID "boost/asio" "::now(" "\"net/connection" "\"net/cluster" "\"net/notifier" "\"net/metadata_service"
         "\"net/coordinator_service" "\"net/sasl_config" "\"consumer/consumer" "\"client/" "\"producer/" "\"admin/"
         "asiokafka/config.hpp" "asiokafka/sasl.hpp" "asiokafka/async.hpp" ${facades})
# net: never the facades above it.
check(RULE "the net layer" GLOBS "${src}/net/*.hpp" "${src}/net/*.cpp"
  FORBID "\"client/" "\"producer/" "\"consumer/" "\"admin/" ${facades})
# The facades never include each other's sources.
check(RULE "the client facade" GLOBS "${src}/client/*" FORBID "\"producer/" "\"consumer/" "\"admin/")
check(RULE "the producer" GLOBS "${src}/producer/*" FORBID "\"consumer/" "\"admin/")
check(RULE "the consumer" GLOBS "${src}/consumer/*" FORBID "\"producer/" "\"admin/")
check(RULE "the admin client" GLOBS "${src}/admin/*" FORBID "\"producer/" "\"consumer/")
# Public headers never reach into src/.
check(RULE "a public header" GLOBS "${inc}/*.hpp"
  FORBID "#include \"net/" "#include \"protocol/" "#include \"client/" "#include \"producer/"
         "#include \"consumer/" "#include \"admin/")
# No library code uses librdkafka (tests and benchmarks only).
check(RULE "library code" GLOBS "${src}/*" "${inc}/*" FORBID "<librdkafka")

# Every source file belongs to a layer folder.
file(GLOB loose "${src}/*.cpp" "${src}/*.hpp")
foreach(f IN LISTS loose)
  file(RELATIVE_PATH rel "${SOURCE_DIR}" "${f}")
  string(APPEND violations "  ${rel}: not in a layer folder (src/protocol, src/net, src/client, ...)\n")
endforeach()

if(violations)
  message(FATAL_ERROR "layering violations:\n${violations}")
endif()
message(STATUS "layering: ok")
