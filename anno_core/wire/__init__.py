"""What server and remote backend share on the wire: route paths and the columnar frame encoding."""
