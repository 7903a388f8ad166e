# The libFuzzer targets and the seconds the test pass runs each: <name>:<seconds> builds
# <name>_fuzzer (tests/fuzz/CMakeLists.txt) from the seed corpus corpus/<name>/, with the
# dictionary <name>.dict when there is one. Included by tests/fuzz/CMakeLists.txt (the clang
# tree that builds them) and by tests/CMakeLists.txt (the tree whose ctest runs them).
set(MINIVPN_FUZZERS
  decode:60     # the IKEv2 codec
  protect:60    # SK/SKF protection and fragmentation
  engine:60     # the IKE engine
  engine_pair:30  # two engines: collisions, fragments, kernel failures, expires
  swanctl:30    # swanctl.conf + strongswan.conf
  ipsec_conf:30 # ipsec.conf (+ ipsec.secrets, strongswan.conf)
  ipsec_secrets:30
  journal:30    # kernel journal replay and compaction
  netlink:30    # xfrm netlink replies and events
  vici:30       # the vici codec and framer
)

# (CMAKE_CURRENT_LIST_DIR inside a function is the caller's.)
set(MINIVPN_FUZZ_SOURCE_DIR ${CMAKE_CURRENT_LIST_DIR})

# Known, reported findings the registered runs step around (fuzz_util.h), e.g.
# -DMINIVPN_FUZZ_IGNORE=nul-hang,netlink-tail to fuzz code older than their fixes. Empty (the default):
# every check is fatal.
set(MINIVPN_FUZZ_IGNORE "" CACHE STRING "Fuzzer checks to skip (comma-separated, see fuzz_util.h)")
# Symbolized stacks in the fuzzers' reports (clang 16's ASan does not find Debian's
# llvm-symbolizer link on its own).
find_program(MINIVPN_LLVM_SYMBOLIZER NAMES llvm-symbolizer-16 llvm-symbolizer)

# minivpn_register_fuzzers(<bin_dir> <max_seconds>): one ctest test fuzz.<name>_fuzzer per
# built fuzzer, label "fuzz". Each runs for its budget (at most <max_seconds>) on a copy of its
# seed corpus in the build tree, so the source corpus is never modified; a crash, a sanitizer
# finding (all are fatal: -fno-sanitize-recover=all), a failed check, or one input running
# longer than 20 s fails the test, and the input is left in fuzz-<name>_fuzzer/.
function(minivpn_register_fuzzers bin_dir max_seconds)
  foreach(entry ${MINIVPN_FUZZERS})
    string(REPLACE ":" ";" pair ${entry})
    list(GET pair 0 name)
    list(GET pair 1 seconds)
    if(seconds GREATER max_seconds)
      set(seconds ${max_seconds})
    endif()
    set(fuzzer ${name}_fuzzer)
    set(corpus ${MINIVPN_FUZZ_SOURCE_DIR}/corpus/${name})
    set(dict "")
    if(EXISTS ${MINIVPN_FUZZ_SOURCE_DIR}/${name}.dict)
      set(dict "-dict=${MINIVPN_FUZZ_SOURCE_DIR}/${name}.dict")
    endif()
    set(env "MINIVPN_FUZZ_IGNORE=${MINIVPN_FUZZ_IGNORE}")
    if(MINIVPN_LLVM_SYMBOLIZER)
      list(APPEND env "ASAN_SYMBOLIZER_PATH=${MINIVPN_LLVM_SYMBOLIZER}")
    endif()
    if(EXISTS ${bin_dir}/${fuzzer})
      add_test(NAME fuzz.${fuzzer}
        COMMAND ${CMAKE_COMMAND} -E env ${env} bash -c
          "rm -rf work && mkdir work && cp -r '${corpus}/.' work/ && exec '${bin_dir}/${fuzzer}' -max_total_time=${seconds} -timeout=20 -print_final_stats=1 ${dict} work"
        WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz-${fuzzer})
      file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz-${fuzzer})
      set_tests_properties(fuzz.${fuzzer} PROPERTIES LABELS fuzz TIMEOUT 300)
    endif()
  endforeach()
endfunction()
