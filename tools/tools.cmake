# Tools (generator, partner simulator): one fragment per module (tools/<module>.cmake).
foreach(module IN LISTS KBIX_MODULES)
  include(${PROJECT_SOURCE_DIR}/tools/${module}.cmake OPTIONAL)
endforeach()
# The partner simulator plays VDAB over real SFTP (demo and end-to-end tests).
include(${PROJECT_SOURCE_DIR}/tools/partner_sim.cmake OPTIONAL)
