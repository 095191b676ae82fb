#!/bin/sh
# Extras hook: runs as root before the blockyard server starts. This default
# does nothing, so the image starts without network access. Replace it by
# bind-mounting your own script at /etc/blockyard/extras.sh; see
# extras.example.sh for common additions. A non-zero exit stops the container.
exit 0
