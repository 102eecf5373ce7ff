"""What both HTTP servers (an office node's API and the gateway) share: the listening socket, RFC 9457
problem+json, the request body limit, path convertors for right ids, and the start-up heap settling."""
