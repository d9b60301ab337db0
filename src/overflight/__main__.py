from overflight.cli import main

main()
