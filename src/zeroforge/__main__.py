from zeroforge.cli import main

main()
