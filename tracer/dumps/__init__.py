"""Reading MediaWiki XML export dumps: compression, splits, pages."""
