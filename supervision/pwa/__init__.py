"""The installable web app: pages, manifest and service worker."""
