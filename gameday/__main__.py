from gameday.launcher import main

main()
