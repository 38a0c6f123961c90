"""tsunagu's API and command line: the bridge between channels, the bot and the records."""
