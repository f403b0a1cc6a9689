# Installs the library, its headers and a relocatable CMake package so that
# find_package(asiokafka CONFIG) + target_link_libraries(app asiokafka::asiokafka) works.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS asiokafka EXPORT asiokafkaTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/asiokafka DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES "${PROJECT_BINARY_DIR}/generated/include/asiokafka/version.hpp"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/asiokafka)

set(_cfgdir ${CMAKE_INSTALL_LIBDIR}/cmake/asiokafka)
install(EXPORT asiokafkaTargets NAMESPACE asiokafka:: DESTINATION ${_cfgdir})
configure_package_config_file(cmake/asiokafka-config.cmake.in
  "${PROJECT_BINARY_DIR}/asiokafka-config.cmake" INSTALL_DESTINATION ${_cfgdir})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/asiokafka-config-version.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/asiokafka-config.cmake"
  "${PROJECT_BINARY_DIR}/asiokafka-config-version.cmake"
  cmake/FindLZ4.cmake cmake/FindCyrusSASL.cmake
  DESTINATION ${_cfgdir})
