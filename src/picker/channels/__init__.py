"""Shop formats in and out (Shopify, WooCommerce, CSV): bytes to domain order records. Pure: no
store, no services."""
