from policyzoo.cli import main

main()
