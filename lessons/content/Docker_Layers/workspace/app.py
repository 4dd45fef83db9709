print("Hello from a layered image!")
