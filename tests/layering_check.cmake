# Fails when a source file breaks the layer rules of docs/design.md:
#   protocol -> std + compression libraries only (no Asio, sockets, TLS, SASL or clocks)
#   net      -> protocol
#   producer, consumer, admin -> net, protocol; never each other
#   no library code uses librdkafka (tests and benchmarks only)
# Run: cmake -DSOURCE_DIR=<repo> -P tests/layering_check.cmake

set(rules
  "protocol|boost/asio|openssl/|sasl/|\"net/|\"producer/|\"consumer/|\"admin/|steady_clock|system_clock|high_resolution_clock"
  "net|\"producer/|\"consumer/|\"admin/"
  "producer|\"consumer/|\"admin/"
  "consumer|\"producer/|\"admin/"
  "admin|\"producer/|\"consumer/")

set(violations "")
foreach(rule IN LISTS rules)
  string(REPLACE "|" ";" parts "${rule}")
  list(POP_FRONT parts layer)
  file(GLOB_RECURSE files
    "${SOURCE_DIR}/src/${layer}/*.hpp" "${SOURCE_DIR}/src/${layer}/*.cpp"
    "${SOURCE_DIR}/include/asiokafka/${layer}/*.hpp")
  foreach(f IN LISTS files)
    file(STRINGS "${f}" lines)
    set(n 0)
    foreach(line IN LISTS lines)
      math(EXPR n "${n} + 1")
      foreach(pattern IN LISTS parts)
        string(FIND "${line}" "${pattern}" at)
        if(NOT at EQUAL -1)
          file(RELATIVE_PATH rel "${SOURCE_DIR}" "${f}")
          string(APPEND violations "  ${rel}:${n}: the ${layer} layer may not use '${pattern}'\n")
        endif()
      endforeach()
    endforeach()
  endforeach()
endforeach()

file(GLOB_RECURSE lib_files "${SOURCE_DIR}/src/*" "${SOURCE_DIR}/include/*")
foreach(f IN LISTS lib_files)
  file(STRINGS "${f}" hits REGEX "#[ \t]*include[ \t]*[<\"]librdkafka")
  if(hits)
    file(RELATIVE_PATH rel "${SOURCE_DIR}" "${f}")
    string(APPEND violations "  ${rel}: library code may not use librdkafka\n")
  endif()
endforeach()

if(violations)
  message(FATAL_ERROR "layering violations:\n${violations}")
endif()
message(STATUS "layering: ok")
