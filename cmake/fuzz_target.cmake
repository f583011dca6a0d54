# chipssl_fuzz_target(NAME SOURCE LIB...): one fuzz target. With
# CHIPSSL_FUZZ=ON (clang) a libFuzzer binary; otherwise SOURCE linked with
# the deterministic replay driver (tests/fuzz/replay_main.c), run on its seed
# corpus as an ordinary test (under the sanitizers in the ASan build).
function(chipssl_fuzz_target name src)
  if(CHIPSSL_FUZZ)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${name} ${src} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.c)
  endif()
  target_link_libraries(${name} PRIVATE ${ARGN})
endfunction()
