# blockyard_library(NAME DIR DEPS...): one static library per domain folder.
# Sources are every *.cc in DIR except *_test.cc. The *_test.cc files beside
# them form the test binary NAME_tests (GoogleTest, discovered by CTest), so
# each domain builds and tests on its own.
include(GoogleTest)

function(blockyard_library name dir)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/*.cc)
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/*_test.cc)
  if(tests)
    list(REMOVE_ITEM srcs ${tests})
  endif()
  if(srcs)
    add_library(${name} STATIC ${srcs})
    target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${name} PUBLIC ${ARGN})
  else()
    # Header-only domain (an interface with no code yet).
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${name} INTERFACE ${ARGN})
  endif()
  if(tests)
    add_executable(${name}_tests ${tests})
    target_link_libraries(${name}_tests PRIVATE ${name} GTest::gtest_main GTest::gmock)
    target_compile_definitions(${name}_tests PRIVATE
      BLOCKYARD_SOURCE_DIR="${PROJECT_SOURCE_DIR}" BLOCKYARD_BINARY_DIR="${PROJECT_BINARY_DIR}")
    # One binary's tests share fixed resources (port and UID ranges, cgroup
    # names, temp paths), so ctest -j runs them one at a time; different
    # binaries still run side by side.
    gtest_discover_tests(${name}_tests DISCOVERY_TIMEOUT 60
                         PROPERTIES LABELS unit RESOURCE_LOCK ${name}_tests)
  endif()
endfunction()
