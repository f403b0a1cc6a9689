# Compiler settings applied to the project's own targets only (never to users' targets).

add_library(asiokafka_warnings INTERFACE)
target_compile_features(asiokafka_warnings INTERFACE cxx_std_20)
target_compile_options(asiokafka_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
     -Wno-missing-field-initializers>  # GCC 12 flags designated initializers that omit defaulted members
  # GCC 12 reports Asio's coroutine-frame operator new/delete pair as mismatched once frames
  # are inlined at -O2 (a false positive; ASan's alloc-dealloc-mismatch check stays on).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>
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
