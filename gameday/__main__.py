from gameday.cli import main

main()
