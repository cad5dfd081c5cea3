# Open vSwitch, built from the tarball that Debian's openvswitch-source
# package installs, as a static library with its private headers used from
# the built source tree (the way OVN builds against OVS).
#
# Exports:
#   OVS_SOURCE_DIR        unpacked, configured and built OVS tree
#   OVS_INCLUDE_DIRS      include path for OVS's public and private headers
#   OVS_LIBRARIES         libovsdb + libopenvswitch + their system libraries
#   OVS_IDLC              command line that runs ovsdb-idlc
#   target ovs            the ExternalProject; depend on it before using any
#                         of the above

include(ExternalProject)

set(OVS_TARBALL "/usr/src/openvswitch/openvswitch.tar.gz" CACHE FILEPATH
    "Open vSwitch source tarball (Debian package openvswitch-source)")
# Pinned: the OVS release Debian 12 ships.  Debian's own point updates of
# that release (3.1.0-2+deb12uN) are accepted; any other release is not.
set(OVS_VERSION_PIN "3.1.0")

if(NOT EXISTS "${OVS_TARBALL}")
  message(FATAL_ERROR
    "${OVS_TARBALL} not found: install Debian's openvswitch-source package "
    "(scripts/install-deps.sh does)")
endif()

execute_process(COMMAND dpkg-query -W -f=${Version} openvswitch-source
                OUTPUT_VARIABLE OVS_DEB_VERSION
                RESULT_VARIABLE _rc ERROR_QUIET)
if(_rc EQUAL 0 AND NOT OVS_DEB_VERSION MATCHES "^${OVS_VERSION_PIN}-")
  message(FATAL_ERROR
    "openvswitch-source ${OVS_DEB_VERSION} is installed, vsw is pinned to "
    "OVS ${OVS_VERSION_PIN}; update OVS_VERSION_PIN in "
    "cmake/OpenvSwitch.cmake after checking the new release")
endif()
file(SHA256 "${OVS_TARBALL}" OVS_TARBALL_SHA256)
message(STATUS "Open vSwitch: ${OVS_TARBALL} (Debian ${OVS_DEB_VERSION}, "
               "sha256 ${OVS_TARBALL_SHA256})")

# VSW_OVS_BUILD: an OVS tree this project already built (another build
# directory's ovs/src/ovs), used as it is instead of building OVS again;
# the sanitized build of scripts/test.sh uses the main build's.
set(VSW_OVS_BUILD "" CACHE PATH
    "an OVS tree built by another vsw build directory, to reuse")
if(VSW_OVS_BUILD)
  if(NOT EXISTS "${VSW_OVS_BUILD}/lib/.libs/libopenvswitch.a")
    message(FATAL_ERROR "VSW_OVS_BUILD=${VSW_OVS_BUILD} has no built OVS")
  endif()
  set(OVS_SOURCE_DIR "${VSW_OVS_BUILD}")
  add_custom_target(ovs)
else()
set(OVS_SOURCE_DIR "${CMAKE_BINARY_DIR}/ovs/src/ovs")
include(ProcessorCount)
ProcessorCount(_ncpu)
if(_ncpu EQUAL 0)
  set(_ncpu 2)
endif()

ExternalProject_Add(ovs
  URL "${OVS_TARBALL}"
  URL_HASH "SHA256=${OVS_TARBALL_SHA256}"
  DOWNLOAD_EXTRACT_TIMESTAMP TRUE
  PREFIX "${CMAKE_BINARY_DIR}/ovs"
  BUILD_IN_SOURCE 1
  CONFIGURE_COMMAND env PYTHON3=/usr/bin/python3 <SOURCE_DIR>/configure
      --quiet --enable-static --disable-shared --disable-libcapng --with-pic
      --localstatedir=/var --sysconfdir=/etc --prefix=/usr
  BUILD_COMMAND sh "${CMAKE_SOURCE_DIR}/cmake/build-ovs.sh" ${_ncpu}
  INSTALL_COMMAND ""
  LOG_CONFIGURE 1
  LOG_BUILD 1
  LOG_OUTPUT_ON_FAILURE 1
  BUILD_BYPRODUCTS
    "${OVS_SOURCE_DIR}/lib/.libs/libopenvswitch.a"
    "${OVS_SOURCE_DIR}/ovsdb/.libs/libovsdb.a"
    "${OVS_SOURCE_DIR}/ovsdb/ovsdb-server"
    "${OVS_SOURCE_DIR}/ovsdb/ovsdb-tool"
    "${OVS_SOURCE_DIR}/ovsdb/ovsdb-client"
    "${OVS_SOURCE_DIR}/utilities/ovs-appctl")
endif()

set(OVS_INCLUDE_DIRS
    "${OVS_SOURCE_DIR}" "${OVS_SOURCE_DIR}/include"
    "${OVS_SOURCE_DIR}/lib" "${OVS_SOURCE_DIR}/ovsdb")

find_package(OpenSSL REQUIRED)
find_library(UNBOUND_LIBRARY unbound)
set(OVS_LIBRARIES
    "${OVS_SOURCE_DIR}/ovsdb/.libs/libovsdb.a"
    "${OVS_SOURCE_DIR}/lib/.libs/libopenvswitch.a"
    OpenSSL::SSL OpenSSL::Crypto atomic m pthread rt)
if(UNBOUND_LIBRARY)
  list(APPEND OVS_LIBRARIES "${UNBOUND_LIBRARY}")
endif()

set(OVS_IDLC env "PYTHONPATH=${OVS_SOURCE_DIR}/python" /usr/bin/python3
    "${OVS_SOURCE_DIR}/ovsdb/ovsdb-idlc")
