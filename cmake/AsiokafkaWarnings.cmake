# Compiler settings applied to the project's own targets only (never to users' targets).

add_library(asiokafka_warnings INTERFACE)
target_compile_features(asiokafka_warnings INTERFACE cxx_std_20)
target_compile_options(asiokafka_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
     -Wno-missing-field-initializers>  # GCC 12 flags designated initializers that omit defaulted members
  $<$<AND:$<BOOL:${ASIOKAFKA_WERROR}>,$<CXX_COMPILER_ID:GNU,Clang>>:-Werror>)

if(ASIOKAFKA_SANITIZE)
  target_compile_options(asiokafka_warnings INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(asiokafka_warnings INTERFACE -fsanitize=address,undefined)
endif()

# Applies the project's warnings (and sanitizers) to TARGET.
function(asiokafka_target_defaults target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:asiokafka_warnings>)
endfunction()
