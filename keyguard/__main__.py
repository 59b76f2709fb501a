from keyguard.cli import run

run()
