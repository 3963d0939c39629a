"""Try to connect to each port of a host: open, refused by the firewall (ICMP admin-prohibited), or closed."""

import errno
import json
import socket
import sys

host, ports = sys.argv[1], sys.argv[2:]
result = {}
for port in ports:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.settimeout(10)
    try:
        probe.connect((host, int(port)))
        result[port] = "open"
    except ConnectionRefusedError:
        result[port] = "closed"
    except OSError as error:
        # nftables' reject with admin-prohibited reaches a TCP client as "no route to host".
        result[port] = "refused by the firewall" if error.errno == errno.EHOSTUNREACH else f"error: {error}"
    finally:
        probe.close()
print(json.dumps(result))
