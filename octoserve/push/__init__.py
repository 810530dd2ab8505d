"""The push API: OctoPrint's SockJS and raw WebSocket channel, its sessions and the hub that feeds them."""
