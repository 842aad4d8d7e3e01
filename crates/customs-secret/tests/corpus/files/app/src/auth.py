from flask import request

def login():
    password = request.form["password"]
    token = generate_token(user)
    if password == confirm_password:
        return redirect("/")
    secret = settings.SECRET_KEY
    api_key = request.headers.get("X-Api-Key")
    access_token: str = session["access_token"]
    return render_template("login.html", error="Invalid password")

def check_password(password: str, password_hash: str) -> bool:
    return bcrypt.checkpw(password.encode(), password_hash.encode())
