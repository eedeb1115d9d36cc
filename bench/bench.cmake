# Benchmarks: one fragment per module (bench/<module>.cmake), each owned by that module.
foreach(module IN LISTS KBIX_MODULES)
  include(${PROJECT_SOURCE_DIR}/bench/${module}.cmake OPTIONAL)
endforeach()
