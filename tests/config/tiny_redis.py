"""A Redis server small enough to start and stop inside a test: the few commands Django's RedisCache sends.

Tests must not need a Redis installed on the machine; this one speaks enough RESP3 for the cache and can be
stopped (every connection dropped, as when Redis goes away) and started again on the same port.
"""

import socket
import socketserver
import threading
import time


def _read_command(stream) -> list[bytes] | None:
    line = stream.readline()
    if not line:
        return None
    assert line[:1] == b"*", line
    arguments = []
    for _ in range(int(line[1:])):
        size = int(stream.readline()[1:])
        arguments.append(stream.read(size + 2)[:-2])
    return arguments


def _bulk(value: bytes | None) -> bytes:
    return b"_\r\n" if value is None else b"$%d\r\n%s\r\n" % (len(value), value)


class TinyRedis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.data: dict[bytes, tuple[bytes, float | None]] = {}
        self.server: socketserver.ThreadingTCPServer | None = None
        self.connections: set[socket.socket] = set()

    def _value(self, key: bytes) -> bytes | None:
        value, expires = self.data.get(key, (None, None))
        if expires is not None and expires < time.monotonic():
            self.data.pop(key, None)
            return None
        return value

    def _answer(self, command: list[bytes]) -> bytes:
        name, arguments = command[0].upper(), command[1:]
        if name == b"GET":
            return _bulk(self._value(arguments[0]))
        if name == b"MGET":
            return b"*%d\r\n" % len(arguments) + b"".join(_bulk(self._value(key)) for key in arguments)
        if name == b"SET":
            key, value, options = arguments[0], arguments[1], [option.upper() for option in arguments[2:]]
            if b"NX" in options and self._value(key) is not None:
                return b"_\r\n"
            expires = time.monotonic() + int(options[options.index(b"EX") + 1]) if b"EX" in options else None
            self.data[key] = (value, expires)
            return b"+OK\r\n"
        if name == b"DEL":
            return b":%d\r\n" % sum(self.data.pop(key, None) is not None for key in arguments)
        if name == b"EXISTS":
            return b":%d\r\n" % sum(self._value(key) is not None for key in arguments)
        if name == b"HELLO":  # redis-py speaks RESP3 and checks the protocol the server agreed to
            return b"%1\r\n$5\r\nproto\r\n:3\r\n"
        if name == b"FLUSHDB":
            self.data.clear()
        return b"+OK\r\n"  # CLIENT SETINFO, SELECT and the like

    def start(self) -> None:
        tiny = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                tiny.connections.add(self.connection)
                try:
                    while (command := _read_command(self.rfile)) is not None:
                        self.wfile.write(tiny._answer(command))
                except (OSError, ValueError):
                    pass
                finally:
                    tiny.connections.discard(self.connection)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Go away as a crashed Redis does: the port closes and open connections are cut."""
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
        for connection in list(self.connections):
            connection.shutdown(socket.SHUT_RDWR)
        self.server = None
