# The partner simulator: plays VDAB over real SFTP for the demo and the end-to-end tests.
add_library(kbix_partner_sim STATIC ${PROJECT_SOURCE_DIR}/tools/partner_sim/partner_sim.cpp)
target_include_directories(kbix_partner_sim PUBLIC ${PROJECT_SOURCE_DIR}/tools)
target_link_libraries(kbix_partner_sim PUBLIC kbix_synthetic kbix_domain kbix_envelope kbix_sftp
                                              kbix_runs kbix_core)
add_executable(kbix-partner-sim ${PROJECT_SOURCE_DIR}/tools/partner_sim/main.cpp)
target_link_libraries(kbix-partner-sim PRIVATE kbix_partner_sim CLI11::CLI11)
