print("built at", open("/app/built-at.txt").read().strip())
