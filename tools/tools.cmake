# Tools (generator, partner simulator): one fragment per module (tools/<module>.cmake).
foreach(module IN LISTS KBIX_MODULES)
  include(${PROJECT_SOURCE_DIR}/tools/${module}.cmake OPTIONAL)
endforeach()
