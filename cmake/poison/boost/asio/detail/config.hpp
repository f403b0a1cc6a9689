// Put first on the include path of the sans-I/O targets (protocol, net/sansio): every Asio
// header includes <boost/asio/detail/config.hpp> first, so any Asio include from those layers,
// direct or through another header, stops the build here. See docs/design.md, "Layers".
#error "this layer is sans-I/O: it may not include Boost.Asio (directly or through a header)"
