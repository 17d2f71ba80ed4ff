# Compiler flags shared by every target of the project.
add_library(wattline_flags INTERFACE)
target_compile_options(wattline_flags INTERFACE -Wall -Wextra -Wno-missing-field-initializers)
if(WATTLINE_WERROR)
  target_compile_options(wattline_flags INTERFACE -Werror)
endif()
if(WATTLINE_SANITIZE)
  target_compile_options(wattline_flags INTERFACE -fsanitize=address,undefined
                                                  -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(wattline_flags INTERFACE -fsanitize=address,undefined)
endif()

# Every executable links the project's allocator through the flags target.
target_link_libraries(wattline_flags INTERFACE wattline_allocator)

# wattline_add_test(NAME name SOURCES ... LIBS ...): one GoogleTest binary, its tests discovered by CTest.
include(GoogleTest)
# Pure-code test binaries that scripts/test.sh also runs under ASan/UBSan (label "sanitize").
set(WATTLINE_SANITIZE_TESTS dlms_test config_test tariff_test file_io_test serial_test
                            runtime_unit_test record_test)
add_custom_target(sanitize_tests)
function(wattline_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} wattline_test_support GTest::gtest GTest::gtest_main
                                          wattline_flags)
  if(T_NAME IN_LIST WATTLINE_SANITIZE_TESTS)
    list(APPEND T_LABELS sanitize)
    add_dependencies(sanitize_tests ${T_NAME})
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  gtest_discover_tests(${T_NAME} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                       PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}"
                       DISCOVERY_TIMEOUT 60)
endfunction()
