/** One broker address as host:port (a host name or IPv4 address, a port of up to five digits); no /g, so it is safe to share. */
export const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;
