// The one translation unit that compiles Boost.Asio and Boost.Beast (see
// BOOST_*_SEPARATE_COMPILATION in src/CMakeLists.txt): every other file only
// includes their declarations, which keeps rebuilds fast on small machines.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
