# Collects every component registration file into one OBJECT library, linked directly into the
# wattline executable and the runtime tests (an OBJECT library keeps the self-registering statics
# that a static archive would drop). A component is one file (or folder) named *_source.cpp,
# *_transform.cpp or *_sink.cpp, with one WATTLINE_REGISTER_COMPONENT line.
file(GLOB_RECURSE wattline_component_sources CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/actors/*_source.cpp ${PROJECT_SOURCE_DIR}/actors/*_transform.cpp
     ${PROJECT_SOURCE_DIR}/sinks/*_sink.cpp)
foreach(source IN LISTS wattline_component_sources)
  file(READ "${source}" contents)
  if(NOT contents MATCHES "WATTLINE_REGISTER_COMPONENT *\\(")
    message(FATAL_ERROR "component ${source} does not register (WATTLINE_REGISTER_COMPONENT)")
  endif()
endforeach()
add_library(wattline_components OBJECT ${wattline_component_sources})
target_link_libraries(wattline_components PUBLIC wattline_runtime wattline_flags)
foreach(core wattline_file_io wattline_dlms wattline_serial wattline_influxdb wattline_mqtt
             wattline_tariff wattline_status wattline_sink_buffer
             wattline_sink_buffer_config wattline_mqtt_config)
  if(TARGET ${core})
    target_link_libraries(wattline_components PUBLIC ${core})
  endif()
endforeach()

add_executable(wattline ${PROJECT_SOURCE_DIR}/engine/app/main.cpp)
target_compile_definitions(wattline PRIVATE WATTLINE_VERSION="${PROJECT_VERSION}")
target_link_libraries(wattline PRIVATE wattline_components wattline_flags)
